"""The command line every ``tools/model_converters/*2lszoo.py`` shares: SRC DST [--ema]
[--trust-checkpoint], one ``lszoo: error:`` line and exit 2 on bad input."""
import argparse
from typing import Callable


def converter_main(argv, model: str, convert_fn: Callable, ema: bool = False) -> int:
    """Parse the arguments and convert ``SRC`` (a reference checkpoint of ``model``) to ``DST``
    with ``convert_fn`` (a mapping of :mod:`lszoo.models.converters`). ``ema``: offer ``--ema``
    (parameters from the checkpoint's EMA shadow)."""
    from lszoo.cli.tool import add_trust_arg, run_tool
    parser = argparse.ArgumentParser(description=f'{model} reference checkpoint -> lszoo')
    parser.add_argument('src', help=f'checkpoint saved by the {model} reference code')
    parser.add_argument('dst', help='lszoo checkpoint to write')
    if ema:
        parser.add_argument('--ema', action='store_true',
                            help="use the parameters of the checkpoint's EMA shadow")
    add_trust_arg(parser, 'SRC')
    args = parser.parse_args(argv)

    def convert(args) -> int:
        from lszoo.models.converters import convert_checkpoint_file
        if args.trust_checkpoint:
            from lszoo.cli.tool import enable_trust
            enable_trust()
        n = convert_checkpoint_file(args.src, args.dst, convert_fn, model,
                                    getattr(args, 'ema', False))
        print(f'{args.dst}: {n} tensors converted from {args.src}')
        return 0

    return run_tool(convert, args)
