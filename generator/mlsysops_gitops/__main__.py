from mlsysops_gitops.cli import main

main()
