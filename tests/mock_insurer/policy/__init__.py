"""Tests of the policy engine (mock_insurer/policy)."""
