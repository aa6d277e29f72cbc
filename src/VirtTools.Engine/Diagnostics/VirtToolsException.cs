namespace VirtTools.Diagnostics;

/// <summary>
/// A failure the engine understands: a stable ErrorId, its kind, what it was about, and what a person
/// can do about it. Cmdlets turn it into an ErrorRecord; the host and the daemon log it.
/// </summary>
public class VirtToolsException : Exception
{
    public VirtToolsException(string errorId, FailureKind kind, string message, string? recommendedAction = null,
        object? target = null, Exception? innerException = null)
        : base(message, innerException)
    {
        ErrorId = errorId;
        Kind = kind;
        RecommendedAction = recommendedAction;
        Target = target;
    }

    /// <summary>Stable identifier scripts can match on ("UsbDeviceNotFound").</summary>
    public string ErrorId { get; }

    public FailureKind Kind { get; }

    /// <summary>A step a person can follow ("Run as root", "modprobe usbip-host").</summary>
    public string? RecommendedAction { get; }

    /// <summary>What the failure is about (a bus id, an address, a path); the cmdlet's input wins over it.</summary>
    public object? Target { get; }
}
