using System.Globalization;
using VirtTools.Config;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Usb;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Vhci;

namespace VirtTools.Tests.Engine.Config;

/// <summary>
/// Stand-ins for the Export-UsbIpDevice engine: the `usbip bind` sequence (unbind from the current driver,
/// match_busid add, bind to usbip-host), written through the root's kernel writer so the double applies it.
/// </summary>
public sealed class BindSequenceExporter : IUsbIpExportApplier
{
    public List<string> Exported { get; } = new();

    public void Export(SystemRoot root, string busId, CancellationToken cancellation)
    {
        Exported.Add(busId);
        if (new UsbDeviceReader(root).Find(busId)?.Driver is { } driver)
            SysfsWriter.Write(root, $"/sys/bus/usb/drivers/{driver}/unbind", busId);
        // As usbip writes it: no newline, or the table would hold "1-2\n", which matches no device.
        root.Writer.Write("/sys/bus/usb/drivers/usbip-host/match_busid", "add " + busId);
        SysfsWriter.Write(root, "/sys/bus/usb/drivers/usbip-host/bind", busId);
    }
}

/// <summary>
/// A stand-in for the Connect-UsbIpDevice engine: takes the first free high-speed port through vhci_hcd's attach
/// file and leaves the /run/vhci_hcd record `usbip attach` leaves, without a network.
/// </summary>
public sealed class RecordingAttacher : IUsbIpAttachmentApplier
{
    public List<UsbIpAttachmentRule> Attached { get; } = new();

    public void Attach(SystemRoot root, UsbIpAttachmentRule rule, CancellationToken cancellation)
    {
        Attached.Add(rule);
        var reader = new VhciReader(root);
        var port = reader.FindFreePort(VhciHub.HighSpeed)
            ?? throw new VirtToolsException("VhciNoFreePort", FailureKind.LimitExceeded, "No free port.");
        SysfsWriter.Write(root, reader.GetControllers()[0].AttachPath, string.Create(CultureInfo.InvariantCulture, $"{port.Port} 7 {0x20003} 3"));
        var record = root.Resolve("/run/vhci_hcd/" + VhciPortRecord.FileName(port.Port));
        Directory.CreateDirectory(Path.GetDirectoryName(record)!);
        File.WriteAllText(record, new VhciPortRecord(rule.ComputerName, rule.TcpPort, rule.Match.BusId ?? "2-3").ToFileText());
    }
}
