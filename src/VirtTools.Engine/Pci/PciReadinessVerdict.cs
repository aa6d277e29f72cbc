namespace VirtTools.Pci;

/// <summary>
/// A function's readiness for vfio passthrough: Ready when every check passed, Blocked when one failed, Warning
/// when one warned or could not tell.
/// </summary>
public enum PciReadinessVerdict
{
    Ready,
    Warning,
    Blocked,
}
