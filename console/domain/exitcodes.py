"""Exit codes of every command; scripts depend on them."""

OK = 0
FAILURE = 1  # operational failure, or a failed verification
USAGE = 2  # bad usage or bad config
REFUSED = 3  # refused by policy
