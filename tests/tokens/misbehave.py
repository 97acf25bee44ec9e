"""A token command that misbehaves on request, for the tests of token-command failures.

Reads the stored value on stdin: `hang` sleeps (writing its pid to $PID_FILE first),
`crash` echoes the value to stdout and stderr and exits 3, `silent` prints nothing,
`twolines` prints two lines; anything else is "decrypted" by reversing it.
"""

import os
import sys
import time

value = sys.stdin.read().strip()
if value.startswith("hang"):
    with open(os.environ["PID_FILE"], "w") as out:
        out.write(str(os.getpid()))
    time.sleep(120)
elif value.startswith("crash"):
    print(f"oops {value} for {os.environ.get('TURSOTUI_TENANT_SLUG')}")
    print(f"oops {value}", file=sys.stderr)
    sys.exit(3)
elif value.startswith("silent"):
    pass
elif value.startswith("twolines"):
    print(f"{value}-first\n{value}-second")
else:
    print(value[::-1])
