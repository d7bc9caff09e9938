"""The application services between the pages/API and the domain: the use-case runner (`runner`), the command
line (`cli`), the background work (`background`), and the measured shortcuts below the libraries' public API
(`tuning`)."""
