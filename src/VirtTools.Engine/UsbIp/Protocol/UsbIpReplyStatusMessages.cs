using VirtTools.Diagnostics;

namespace VirtTools.UsbIp.Protocol;

/// <summary>
/// What each reply status means to a person. The kernel's client prints "Request Failed" for most of them,
/// the most common complaint of its users; here each says what happened and what to do.
/// </summary>
public static class UsbIpReplyStatusMessages
{
    public static VirtToolsException ToFailure(UsbIpReplyStatus status, string server, string? busId)
    {
        var device = busId is null ? "the device" : $"device {busId}";
        return status switch
        {
            UsbIpReplyStatus.NotAvailable => new VirtToolsException(UsbIpErrors.DeviceNotAvailableId, FailureKind.ResourceUnavailable,
                $"The USB/IP server {server} would not give {device} to this client: it is not exported there, or this client is not on the server's allow-list.",
                $"On {server}, check the export (Get-UsbIpExport) and that the server allows this client (Start-UsbIpServer -AllowedClient, virttools usbipd --allow).", busId),
            UsbIpReplyStatus.DeviceBusy => new VirtToolsException(UsbIpErrors.DeviceBusyId, FailureKind.ResourceBusy,
                $"{Capitalize(device)} on {server} is already imported by another client.",
                $"Detach it on the client that uses it (Disconnect-UsbIpDevice), or on {server} run Remove-UsbIpExport and Export-UsbIpDevice to reset a stale import.", busId),
            UsbIpReplyStatus.DeviceError => new VirtToolsException(UsbIpErrors.DeviceErrorId, FailureKind.DeviceError,
                $"{Capitalize(device)} on {server} is in usbip-host's error state (usbip_status 3): its last connection broke.",
                $"On {server}, unexport and export it again (Remove-UsbIpExport, Export-UsbIpDevice), or replug the device.", busId),
            UsbIpReplyStatus.NoDevice => new VirtToolsException(UsbIpErrors.DeviceNotFoundId, FailureKind.NotFound,
                busId is null ? $"The USB/IP server {server} has no such device." : $"The USB/IP server {server} has no device {busId}.",
                $"List what {server} exports with Get-UsbIpDevice -ComputerName {server}.", busId),
            UsbIpReplyStatus.Error => new VirtToolsException(UsbIpErrors.ServerErrorId, FailureKind.OperationFailed,
                $"The USB/IP server {server} failed while handling the request for {device}.",
                $"Look at the server's log on {server} (journalctl -u usbipd or virttools-usbipd).", busId),
            _ => new VirtToolsException(UsbIpErrors.ServerErrorId, FailureKind.ProtocolError,
                $"The USB/IP server {server} answered with the unknown status {(uint)status} for {device}.",
                $"Check that {server} runs a Linux-compatible USB/IP server.", busId),
        };
    }

    private static string Capitalize(string text) => char.ToUpperInvariant(text[0]) + text[1..];
}
