"""Compiled kernels of fastloss (Cython + C templates); not a public API."""
