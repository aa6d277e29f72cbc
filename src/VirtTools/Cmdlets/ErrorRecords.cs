using System.Management.Automation;
using VirtTools.Diagnostics;

namespace VirtTools.Commands;

/// <summary>Maps engine failures to ErrorRecords: the stable ErrorId, the category, the input as target, the fix.</summary>
internal static class ErrorRecords
{
    public static ErrorRecord From(VirtToolsException failure, object? target)
    {
        var record = new ErrorRecord(failure, failure.ErrorId, Category(failure.Kind), target ?? failure.Target);
        if (failure.RecommendedAction is { } action)
            record.ErrorDetails = new ErrorDetails(failure.Message) { RecommendedAction = action };
        return record;
    }

    public static ErrorCategory Category(FailureKind kind) => kind switch
    {
        FailureKind.NotFound => ErrorCategory.ObjectNotFound,
        FailureKind.PermissionDenied => ErrorCategory.PermissionDenied,
        FailureKind.NotInstalled => ErrorCategory.NotInstalled,
        FailureKind.NotEnabled => ErrorCategory.NotEnabled,
        FailureKind.InvalidArgument => ErrorCategory.InvalidArgument,
        FailureKind.InvalidData => ErrorCategory.InvalidData,
        FailureKind.ResourceBusy => ErrorCategory.ResourceBusy,
        FailureKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        FailureKind.DeviceError => ErrorCategory.DeviceError,
        FailureKind.ProtocolError => ErrorCategory.ProtocolError,
        FailureKind.ConnectionError => ErrorCategory.ConnectionError,
        FailureKind.Timeout => ErrorCategory.OperationTimeout,
        FailureKind.LimitExceeded => ErrorCategory.LimitsExceeded,
        _ => ErrorCategory.NotSpecified,
    };
}
