namespace VirtTools.Pci;

/// <summary>One planned write to a PCI kernel attribute, shown by -WhatIf and then done in this order.</summary>
public sealed record PciAttributeWrite(string SystemPath, string Value)
{
    public override string ToString() => $"write '{(Value.Length == 0 ? "\\n" : Value)}' to {SystemPath}";
}
