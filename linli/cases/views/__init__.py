"""Web pages of the 民情 case loop, one module per area: `loop` (workbench, reporting,
a case's detail and actions, the public board); later areas get their own modules."""
