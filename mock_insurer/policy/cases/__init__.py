"""Worked settlement cases as readable YAML (format: ``cases/README.md``), run as tests by
``tests/mock_insurer/policy`` through :func:`mock_insurer.policy.worked_cases.run_case_file`.

This folder is a package only so that the YAML files ship with the distribution."""
