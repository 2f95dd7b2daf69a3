"""python -m fastloss bench | demo | info"""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m fastloss',
                                     description='fastloss command line')
    sub = parser.add_subparsers(dest='command', required=True)
    sub.add_parser('info', help='print the build configuration (same as fl.show_config())')
    bench = sub.add_parser('bench', help='time every kernel against NumPy / PyTorch / SciPy')
    from . import _bench, _demo
    _bench.add_arguments(bench)
    demo = sub.add_parser('demo', help="the seed's single-neuron experiment: MSE vs cross-entropy")
    _demo.add_arguments(demo)
    args = parser.parse_args(argv)
    if args.command == 'info':
        from . import show_config
        show_config()
        return 0
    if args.command == 'bench':
        return _bench.run(args)
    if args.command == 'demo':
        return _demo.run(args)
    return 2


if __name__ == '__main__':
    sys.exit(main())
