def main() -> None:
    print("Acme Shop")


if __name__ == "__main__":
    main()
