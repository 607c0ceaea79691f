"""The spec against the world it describes: a database (tables, columns, types, SQL prepared) and the results
store (measured build durations for the slack warnings). Above the engines, below the CLI; the spec layer itself
knows nothing of databases."""
