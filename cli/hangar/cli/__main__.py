from hangar.cli.main import main

main()
