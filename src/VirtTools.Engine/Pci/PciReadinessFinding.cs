namespace VirtTools.Pci;

/// <summary>One readiness check of one function: what was checked, the result, the files and values it rests on, and what it means.</summary>
public sealed record PciReadinessFinding(string Check, PciReadinessResult Result, string Evidence, string Reason)
{
    public override string ToString() => $"{Check}: {Result}";
}
