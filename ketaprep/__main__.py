from ketaprep.entry import main

main()
