"""Nothing to administer: codes and reset requests hold only keyed hashes and live a day."""
