"""The closed-loop benchmark problems (ARCH-COMP AINNCS and NNV case studies) as TOML files."""
