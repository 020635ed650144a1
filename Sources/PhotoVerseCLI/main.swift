import ArgumentParser
PhotoVerse.main()
