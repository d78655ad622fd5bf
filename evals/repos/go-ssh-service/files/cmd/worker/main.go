package main

func main() { println("ledger worker") }
