from safecities.cli import main

main()
