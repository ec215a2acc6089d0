"""Offline plan: run the real program under the Pulumi SDK's mock runtime, judge and render what it creates."""
