using VirtTools.Usb;
using System.Globalization;
using VirtTools.Config;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Vhci;

namespace VirtTools.Tests.Engine.Config;

/// <summary>
/// The Export-UsbIpDevice engine itself (what Sync-VirtHostConfig and the agent use), with a list of what it was asked
/// to export; on the kernel double its writes are applied with usbip-host's semantics.
/// </summary>
public sealed class RecordingExporter : IUsbIpExportApplier
{
    private readonly UsbIpExportApplier _engine = new();

    public List<string> Exported { get; } = new();

    public void Export(SystemRoot root, VirtTools.Usb.UsbBusId busId, CancellationToken cancellation)
    {
        Exported.Add(busId.ToString());
        _engine.Export(root, busId, cancellation);
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
        File.WriteAllText(record, new VhciPortRecord(rule.ComputerName, rule.TcpPort, rule.Match.BusId ?? UsbBusId.Parse("2-3")).ToFileText());
    }
}
