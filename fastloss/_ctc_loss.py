"""(filled in by its issue)"""
__all__ = []
LOSSES = ()
