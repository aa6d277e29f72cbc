using VirtTools.UsbIp.Protocol;

namespace VirtTools.UsbIp.Client;

/// <summary>
/// The network half of an attach: ask a server for one device (OP_REQ_IMPORT) and keep the connection open for
/// vhci_hcd. <see cref="UsbIpClient.Importer"/> does it over TCP; tests put a stand-in behind the sysfs half.
/// </summary>
public interface IUsbIpImporter
{
    Task<IUsbIpImport> ImportAsync(string computerName, int tcpPort, string busId, TimeSpan timeout, CancellationToken cancellation);
}

/// <summary>
/// A device the server agreed to give, and the connection to it as a descriptor of this process: vhci_hcd's attach
/// looks the number up in the writing process's fd table and takes its own reference, after which disposing the
/// import closes only ours, as <c>usbip attach</c> closes its socket after the write.
/// </summary>
public interface IUsbIpImport : IDisposable
{
    UsbIpDeviceRecord Device { get; }

    int SocketFd { get; }

    /// <summary>Sets the socket options vhci_hcd will run the connection with; called before <see cref="SocketFd"/> is handed over.</summary>
    void PrepareForKernel(UsbIpDeadPeerPolicy deadPeer);

    /// <summary>
    /// vhci_hcd took <see cref="SocketFd"/>: whatever this process must keep running for the device (a TLS import's
    /// relay) starts now and outlives the import object. Nothing to do for a plain TCP import.
    /// </summary>
    void Attached() { }
}
