namespace VirtTools.Hypervisor;

/// <summary>One host check: its area (KVM, IOMMU, USBIP, KSM), what was checked, the result, and a fix when it is not Pass.</summary>
public sealed class VirtHostCheck
{
    public VirtHostCheck(string area, string name, CheckResult result, string message, string? hint, string root)
    {
        Area = area;
        Name = name;
        Result = result;
        Message = message;
        Hint = hint;
        Root = root;
    }

    public string Area { get; }
    public string Name { get; }
    public CheckResult Result { get; }
    public string Message { get; }
    /// <summary>What a person can do about a Warn, Fail or Skip.</summary>
    public string? Hint { get; }
    public string Root { get; }

    public override string ToString() => $"{Area}: {Name}: {Result}";
}
