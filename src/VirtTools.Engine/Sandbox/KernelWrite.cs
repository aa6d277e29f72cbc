namespace VirtTools.Sandbox;

/// <summary>One write the engine made to a sandbox's kernel: the attribute and the exact text.</summary>
public sealed record KernelWrite(string SystemPath, string Text);
