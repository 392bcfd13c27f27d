"""What the CI/CD providers (GitHub Actions, GitLab CI) share beyond the HTTP layer."""
