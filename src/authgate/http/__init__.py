"""HTTP plumbing shared by every dialect: body parsing, credentials, languages, request errors."""
