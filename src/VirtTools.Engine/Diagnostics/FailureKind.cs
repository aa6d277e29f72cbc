namespace VirtTools.Diagnostics;

/// <summary>
/// What kind of failure the engine met. The cmdlet layer maps each to a PowerShell ErrorCategory,
/// so the engine can describe failures without knowing PowerShell.
/// </summary>
public enum FailureKind
{
    NotFound,
    PermissionDenied,
    NotInstalled,
    NotEnabled,
    InvalidArgument,
    InvalidData,
    ResourceBusy,
    ResourceUnavailable,
    DeviceError,
    ProtocolError,
    ConnectionError,
    Timeout,
    LimitExceeded,
    OperationFailed,
}
