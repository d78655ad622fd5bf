package main

var version = "dev"

func main() { println("ledger api", version) }
