from luna.cli.app import main

main()
