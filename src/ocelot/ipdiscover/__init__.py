"""IP discovery: subnets, scanner election, discovered devices; arrives with issue 6."""
