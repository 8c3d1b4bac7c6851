"""`python -m netlab.agent LAB`: started by `netlab up`, stopped by `netlab down`."""
import sys

from .supervisor import Supervisor

if __name__ == "__main__":
    Supervisor(sys.argv[1]).run()
