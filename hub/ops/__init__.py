"""Running the hub: the scheduler, the publishing schedule, sync health, metrics and logs."""
