enum HooklineWorkerPlaceholder {}
