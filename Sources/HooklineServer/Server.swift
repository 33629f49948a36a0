enum HooklineServerPlaceholder {}
