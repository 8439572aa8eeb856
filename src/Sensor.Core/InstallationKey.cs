using System.Security.Cryptography;

namespace Sensor.Core;

/// <summary>
/// The per-installation secret behind every value hash (HMAC-SHA256): created at first use with 32 random
/// bytes, readable by the owner only (0600, directory 0700), so a hash cannot be reversed by guessing
/// values without the key, and one secret seen on two endpoints has the same hash.
/// </summary>
public static class InstallationKey
{
    /// <summary>SENSOR_KEY_FILE, else $XDG_DATA_HOME/sensor/hmac.key, else ~/.local/share/sensor/hmac.key.</summary>
    public static string DefaultPath()
    {
        if (Environment.GetEnvironmentVariable("SENSOR_KEY_FILE") is { Length: > 0 } f) return f;
        var data = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        if (string.IsNullOrEmpty(data)) data = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(data, "sensor", "hmac.key");
    }

    public static byte[] LoadOrCreate(string? path = null)
    {
        path ??= DefaultPath();
        if (File.Exists(path))
        {
            var key = File.ReadAllBytes(path);
            if (key.Length < 32) throw new InvalidDataException($"{path}: the key file is too short ({key.Length} bytes; 32 expected)");
            return key;
        }
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(dir))
        {
            if (OperatingSystem.IsWindows()) Directory.CreateDirectory(dir);
            else Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var fresh = RandomNumberGenerator.GetBytes(32);
        var tmp = path + "." + Environment.ProcessId + ".tmp";
        var opts = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) opts.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var fs = new FileStream(tmp, opts)) fs.Write(fresh);
        try { File.Move(tmp, path, overwrite: false); }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: use theirs, so both hash alike.
            File.Delete(tmp);
            return LoadOrCreate(path);
        }
        return fresh;
    }
}
