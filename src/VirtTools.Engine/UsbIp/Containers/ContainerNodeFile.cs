using System.Globalization;
using System.Runtime.InteropServices;
using VirtTools.State;
using VirtTools.Usb;

namespace VirtTools.UsbIp.Containers;

/// <summary>
/// Removes a device node inside a running container from the host, as <c>lxc-device del</c> does after its host
/// stat (it chroots into /proc/&lt;init&gt;/root and unlinks), but with nothing needed on the host: the device may be
/// gone. The path is resolved with the container's root as / (openat2 RESOLVE_IN_ROOT, no magic links), so a
/// symlink the container planted in its /dev resolves inside the container, never onto the host's files. Only a
/// node that is still that device (its type and number) is removed: one the container made since is left alone.
/// </summary>
public static partial class ContainerNodeFile
{
    private const int SysOpenat2 = 437; // the same number on every Linux architecture (the unified syscall table)
    private const ulong OPath = 0x200000;
    private const ulong ResolveNoMagicLinks = 0x02, ResolveInRoot = 0x10;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const int TypeMask = 0xF000, CharDevice = 0x2000, BlockDevice = 0x6000;

    /// <summary>The container's root seen from the host: /proc/&lt;init&gt;/root.</summary>
    public static string RootOf(int processId) => string.Create(CultureInfo.InvariantCulture, $"/proc/{processId}/root");

    /// <summary>
    /// Unlinks <paramref name="node"/>'s path under <paramref name="containerRoot"/> when it is that device; false when
    /// there is nothing there, or something else. Throws IOException or UnauthorizedAccessException when the path
    /// cannot be looked at or the node cannot be removed.
    /// </summary>
    public static bool Remove(string containerRoot, DeviceNode node)
    {
        if (!DeviceNode.IsDevicePath(node.Path)) throw new ArgumentException($"'{node.Path}' is not a device path.", nameof(node));
        var folder = Path.GetDirectoryName(node.Path)!;
        var name = Path.GetFileName(node.Path);
        int root = Libc.Open(containerRoot, Libc.ORdOnly | Libc.ODirectory | Libc.OCloexec, 0);
        if (root < 0) throw Libc.Failure("Cannot open the container's root", containerRoot);
        try
        {
            var how = new OpenHow { Flags = OPath | (ulong)Libc.ODirectory | (ulong)Libc.OCloexec, Resolve = ResolveInRoot | ResolveNoMagicLinks };
            int parent = (int)OpenAt2(root, folder, ref how, Marshal.SizeOf<OpenHow>());
            if (parent < 0)
                return IsNotThere(Libc.LastError) ? false : throw Libc.Failure("Cannot open", containerRoot + folder);
            try
            {
                if (!IsThatDevice(parent, name, node, containerRoot + node.Path)) return false;
                if (Libc.UnlinkAt(parent, name, 0) == 0) return true;
                return Libc.LastError == Libc.ENOENT ? false : throw Libc.Failure("Cannot remove", containerRoot + node.Path);
            }
            finally
            {
                Libc.Close(parent);
            }
        }
        finally
        {
            Libc.Close(root);
        }
    }

    /// <summary>
    /// No such folder in the container: missing, a file where a folder should be, a symlink loop, or a path that
    /// would leave the container's root (EXDEV). The container made it so; there is no node of ours to remove.
    /// </summary>
    private static bool IsNotThere(int errno) => errno is Libc.ENOENT or ENotDir or Libc.ELOOP or EXDev;

    private const int ENotDir = 20, EXDev = 18;

    private static unsafe bool IsThatDevice(int folder, string name, DeviceNode node, string shown)
    {
        var buffer = stackalloc byte[256]; // struct statx
        if (Statx(folder, name, AtSymlinkNoFollow, StatxType, buffer) != 0)
            return Libc.LastError == Libc.ENOENT ? false : throw Libc.Failure("Cannot look at", shown);
        var type = *(ushort*)(buffer + 28) & TypeMask; // stx_mode
        var major = *(uint*)(buffer + 128); // stx_rdev_major
        var minor = *(uint*)(buffer + 132); // stx_rdev_minor
        return type == (node.IsBlock ? BlockDevice : CharDevice) && major == (uint)node.Major && minor == (uint)node.Minor;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long OpenAt2(long number, int directory, string path, ref OpenHow how, long size);

    private static long OpenAt2(int directory, string path, ref OpenHow how, long size) => OpenAt2(SysOpenat2, directory, path, ref how, size);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int directory, string path, int flags, uint mask, byte* buffer);
}
