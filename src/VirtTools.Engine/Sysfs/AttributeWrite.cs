namespace VirtTools.Sysfs;

/// <summary>
/// One planned write to a kernel attribute, shown by -WhatIf and then done in order. <see cref="Exact"/> writes the
/// value without the trailing newline `echo` adds: attributes that compare the whole buffer (usbip-host's match_busid
/// and rebind) would take the newline as part of the name, so usbip writes them bare.
/// </summary>
public sealed record AttributeWrite(string SystemPath, string Value, bool Exact = false)
{
    public void Apply(SystemRoot root)
    {
        if (Exact) SysfsWriter.WriteExact(root, SystemPath, Value);
        else SysfsWriter.Write(root, SystemPath, Value);
    }

    public override string ToString() => $"write '{(Value.Length == 0 ? "\\n" : Value)}' to {SystemPath}";
}
