"""Web pages of emergency operation, one module per area: plans, command (activations and
the live board), field (a volunteer's tasks and help requests) and report."""
