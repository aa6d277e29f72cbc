namespace VirtTools.Tests.Support;

/// <summary>
/// A synthetic root for edge cases the captured tree does not show: write files and symlinks by their
/// system path ("/sys/bus/usb/devices/1-1/idVendor"), then point -Root at <see cref="Path"/>.
/// </summary>
public sealed class TemporaryTree : IDisposable
{
    public TemporaryTree(string purpose = "tree") => Path = CapturedFixture.NewTemporaryFolder(purpose);

    public string Path { get; }

    public string Resolve(string systemPath) => System.IO.Path.Combine(Path, systemPath.TrimStart('/'));

    /// <summary>Writes a file; attribute values get the trailing newline the kernel prints unless told otherwise.</summary>
    public TemporaryTree File(string systemPath, string content, bool newline = true)
    {
        var path = Resolve(systemPath);
        System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, newline && !content.EndsWith('\n') ? content + "\n" : content);
        return this;
    }

    public TemporaryTree Bytes(string systemPath, byte[] content)
    {
        var path = Resolve(systemPath);
        System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllBytes(path, content);
        return this;
    }

    /// <summary>Creates a symlink at <paramref name="systemPath"/> pointing at <paramref name="target"/> (relative, as sysfs does).</summary>
    public TemporaryTree Link(string systemPath, string target)
    {
        var path = Resolve(systemPath);
        System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.CreateSymbolicLink(path, target);
        return this;
    }

    public TemporaryTree Directory(string systemPath)
    {
        System.IO.Directory.CreateDirectory(Resolve(systemPath));
        return this;
    }

    public string? Read(string systemPath) => System.IO.File.Exists(Resolve(systemPath)) ? System.IO.File.ReadAllText(Resolve(systemPath)) : null;

    public void Dispose() => CapturedFixture.TryDelete(Path);
}
