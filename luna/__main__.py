from luna.cli.entry import main

main()
