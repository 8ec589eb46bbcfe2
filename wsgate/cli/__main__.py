from wsgate.cli.main import main

main()
