"""`python -m netlab.agent LAB`: started by `netlab up`, stopped by `netlab down`."""
import asyncio
import sys

from .main import Agent

if __name__ == "__main__":
    asyncio.run(Agent(sys.argv[1]).run())
