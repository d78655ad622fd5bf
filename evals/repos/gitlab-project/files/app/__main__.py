print("billing app")
