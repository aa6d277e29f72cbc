using System.Net;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;
using VirtTools.Usb;
using VirtTools.UsbIp.Host;
using VirtTools.UsbIp.Tls;

namespace VirtTools.UsbIp.Server;

/// <summary>
/// The holder records (<see cref="UsbIpHolderRecord"/>) of the devices one server handed to usbip-host. A relayed
/// (TLS) import is released when its relay ends; a plain one belongs to the kernel after the hand-off, so the server
/// learns of its end only by looking: <see cref="Sweep"/> drops every record whose device is no longer in use. A
/// record that cannot be written or removed is logged and never fails an import: it is a display-only fact.
/// </summary>
internal sealed class ExportHolders
{
    private readonly SystemRoot _root;
    private readonly Action<string> _log;
    private readonly HashSet<string> _held = new(StringComparer.Ordinal);

    public ExportHolders(SystemRoot root, Action<string> log)
    {
        _root = root;
        _log = log;
    }

    /// <summary>Records who now holds <paramref name="busId"/>.</summary>
    public void HandedOver(string busId, IPEndPoint client, UsbIpClientIdentity? identity)
    {
        // One lock over every step: a sweep that saw the device free just before this import must not remove the
        // record this import writes.
        lock (_held)
        {
            _held.Add(busId);
            Try(busId, "record who holds", () => UsbIpHolderRecord.For(busId, client, identity, DateTime.UtcNow).Write(_root));
        }
    }

    /// <summary>Forgets who held <paramref name="busId"/>: its relay ended, or usbip-host no longer uses it.</summary>
    public void Released(string busId)
    {
        lock (_held)
            if (_held.Remove(busId)) Try(busId, "remove the holder record of", () => UsbIpHolderRecord.Delete(_root, busId));
    }

    /// <summary>Releases every held device whose usbip_status says it is not in use any more (or that is gone).</summary>
    public void Sweep()
    {
        lock (_held)
            foreach (var busId in _held.ToArray())
                if (UsbDeviceDrivers.ReadUsbIpStatus(_root.Directory("/sys/bus/usb/devices/" + busId)) != UsbIpStatus.InUse) Released(busId);
    }

    /// <summary>The server stops: the records it wrote say nothing true any more.</summary>
    public void ReleaseAll()
    {
        lock (_held)
            foreach (var busId in _held.ToArray()) Released(busId);
    }

    public bool IsEmpty
    {
        get { lock (_held) return _held.Count == 0; }
    }

    private void Try(string busId, string what, Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or VirtToolsException)
        {
            _log($"cannot {what} {busId} in {UsbIpHolderRecord.Directory}: {e.Message}");
        }
    }
}
