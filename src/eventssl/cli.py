"""`eventssl fit|validate|test|predict --config …`: LightningCLI with the schema linked in."""

from __future__ import annotations

from lightning.pytorch.cli import ArgsType, LightningArgumentParser, LightningCLI

from eventssl.data.datamodule import EventDataModule
from eventssl.methods.base import SSLModule


class EventSSLCLI(LightningCLI):
    """Links the dataset schema (cardinalities, numeric statistics) into the encoder, so configs
    never repeat them."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        for name in ("categorical", "numerical"):
            parser.link_arguments(
                f"data.{name}", f"model.init_args.encoder.init_args.{name}", apply_on="instantiate"
            )


def main(args: ArgsType = None) -> None:
    """Console entry point; `args` lets tests call it in-process."""
    EventSSLCLI(
        SSLModule,
        EventDataModule,
        subclass_mode_model=True,
        save_config_kwargs={"overwrite": True},
        args=args,
    )


if __name__ == "__main__":
    main()
