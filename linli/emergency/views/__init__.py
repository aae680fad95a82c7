"""Web pages of emergency operation, one module per area: plans, command (activations and
the live board), my_tasks (a volunteer's tasks on their phone), help_requests (求助) and
report."""
