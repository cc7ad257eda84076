"""python -m cardsettle.cli"""

from cardsettle.cli import main

main()
