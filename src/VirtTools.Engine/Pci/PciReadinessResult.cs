namespace VirtTools.Pci;

/// <summary>What one readiness check found. Unknown is not Pass: the evidence could not be read or does not decide.</summary>
public enum PciReadinessResult
{
    Pass,
    Warn,
    Fail,
    Unknown,
}
